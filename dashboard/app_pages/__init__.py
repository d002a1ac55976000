"""The dashboard's pages: each a ``render(settings)`` function that the router in ``app.py`` runs."""
