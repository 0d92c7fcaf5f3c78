"""The leaf core: shared types, settings, errors, ids and typed read records.

Nothing here imports a stage or the app layer; every other layer may import it.
"""
