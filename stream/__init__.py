"""The stream: topics posts.raw → posts.enriched → sinks, with posts.dlq for what cannot be processed.

the message contract is in :mod:`core.messages`; :mod:`stream.broker` is the port both brokers implement
(:mod:`stream.embedded` and :mod:`stream.kafka`); :mod:`stream.worker` runs one stage as a consumer group.
"""
