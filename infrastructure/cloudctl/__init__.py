"""cloudctl: one CLI for operating Cloud-Design (bootstrap, manifests, delivery)."""
