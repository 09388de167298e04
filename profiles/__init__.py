"""Built-in parsing profiles (YAML), installed as the package evkit._builtin_profiles."""
