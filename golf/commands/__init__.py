"""Command-line front ends: one module per command group, each with register(subparsers)."""
