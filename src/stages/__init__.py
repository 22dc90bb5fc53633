"""Thin DVC stage scripts: parse arguments, load the config, call the library, write outputs atomically."""
