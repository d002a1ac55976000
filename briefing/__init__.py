"""The daily briefing (舆情日报): a period's facts from the archive and the ledger, as Word/Markdown/HTML.

:mod:`briefing.compute` gathers a frozen :class:`~briefing.model.Briefing` (numbers only from the
archive port and the ledger); :mod:`briefing.outline` lays it out once as blocks; :mod:`briefing.docx`,
:mod:`briefing.markdown` and :mod:`briefing.html` map the blocks, with :mod:`briefing.charts`' PNGs;
:mod:`briefing.schedule` and :mod:`briefing.jobs` run it daily into ``<home>/briefings`` and send it
through the ledger's channels (:mod:`briefing.deliver`). Templates: :mod:`briefing.template`.
"""
