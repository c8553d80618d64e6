"""Socket.IO for the whole app (shared machinery, imports no feature).

- `server`: options, this app's Socket.IO server, origin checks, `publish` /
  `publish_after_commit`, cutting a person's sockets off in every namespace.
- `presence`: who is connected where, across workers (Redis) or in one process.
- `handlers`: the decorator every namespace's events share (the acting person read again,
  errors turned into `{"ok": false, "error": ..., "message": ...}`).

Namespaces (/chat, /threads) register their handlers from the application factory.
"""
