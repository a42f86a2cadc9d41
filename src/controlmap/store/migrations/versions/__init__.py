"""Migration scripts, applied in order by controlmap.store.db.open_store()."""
