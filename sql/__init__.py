"""Report SQL: one ``.sql`` file per query, loaded by name by :mod:`ms_prcs.reports.queries`.

This folder is a package only so that ``pip install .`` ships the files (as package data) and the loader can
find them with :mod:`importlib.resources` wherever ms-prcs is installed. Every value reaches a query as a bind
parameter (``:as_of``); nothing is ever formatted into the text. Write ``:name`` only for binds, never in a
comment: SQLAlchemy, and the loader's check of the binds given, read every ``:name`` as one.
"""
