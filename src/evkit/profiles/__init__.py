"""YAML parsing profiles: where an artefact lives, how to recognise it, how to turn it into records."""
