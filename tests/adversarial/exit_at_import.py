"""Escapes: ends the worker while the module is being imported."""
import os

os._exit(0)
