"""The domain of the village assistance atlas: data model, storage, import/export and analyses.

Nothing in this package imports the web layer (``api``) or the map builders (``maps``).
"""
