"""Monitoring UI (Bull Board's role): queues, workers, dead letters, Redis health, /metrics."""
