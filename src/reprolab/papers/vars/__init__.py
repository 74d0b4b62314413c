"""vars: VARS, long- and short-term user vectors biasing preference retrieval (arXiv
2603.20939), on MiniCollab, a multi-session collaboration harness."""
