"""Logical sources: folders, archives and phone backups shown as file trees."""
