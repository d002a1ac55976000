"""The daily briefing (舆情日报): a period's facts from the archive and the ledger, as Word/Markdown/HTML.

:mod:`briefing.compute` gathers a frozen :class:`~briefing.model.Briefing` (numbers only from the
archive port and the ledger); :mod:`briefing.outline` lays it out once as blocks; :mod:`briefing.docx`,
:mod:`briefing.markdown` and :mod:`briefing.html` map the blocks, with :mod:`briefing.charts`' PNGs;
:mod:`briefing.schedule` and :mod:`briefing.jobs` are its scheduled runs into ``<home>/briefings`` (once a
period is over and its posts are in), sent through the ledger's channels (:mod:`briefing.deliver`);
``yuqing schedule`` fires them. Templates: :mod:`briefing.template`.

Layer 4: it may import :mod:`core`, :mod:`archive`, :mod:`response_ledger` and :mod:`classifiers`
(spikes) (``tests/test_layers.py``).
"""
