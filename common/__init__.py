"""Shared runtime utilities for the Queue Cookbook recipes.

Each module is small and depends only on the standard library, dramatiq, redis and
pydantic, so a recipe's README can name the exact files to copy.
"""
