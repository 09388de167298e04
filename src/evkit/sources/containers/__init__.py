"""Container formats: each decodes evidence files into one media stream."""
