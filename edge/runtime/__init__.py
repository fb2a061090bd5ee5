"""The on-device program (detect.py). Copied to the device as is; imports nothing from this repo."""
