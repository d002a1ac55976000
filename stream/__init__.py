"""The stream: topics posts.raw → posts.enriched → sinks, with posts.dlq for what cannot be processed.

Transport only; it imports nothing but :mod:`core`. The message contract is in :mod:`core.messages`;
:mod:`stream.broker` is the port both brokers implement (:mod:`stream.embedded` and :mod:`stream.kafka`);
:mod:`stream.worker` runs one stage as a consumer group; :mod:`stream.decode` is the worker's decode edge
(where a record off a topic is validated); :mod:`stream.replay` re-drives dead letters. The stages that
bind a worker to the classifiers, the archive and the ledger are the composition root's
(:mod:`yuqing.stages`); file imports are a source reader (:mod:`crawlers.ingest`).
"""
