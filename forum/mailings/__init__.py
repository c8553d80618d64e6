"""What the forum mails on its own: notification e-mails in batches (batcher), digests since
the last session (digest), and the background sender that runs them with the outbox and the
data exports (worker). Composition: it reads every feature; the outbox it fills is
forum.notifications.outbox."""
