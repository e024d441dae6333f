"""Operations: health and readiness, Prometheus metrics, cluster-wide housekeeping."""
