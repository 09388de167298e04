"""evkit tests: real bytes from sample_images/ and the third-party corpus."""
