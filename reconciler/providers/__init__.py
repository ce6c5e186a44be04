"""Providers: one package per export platform, each behind the same small seam."""
