"""Ship a bundle to a device: a Raspberry Pi over ssh (`ssh.py`) or the emulated Pi (`emulated.py`).
Both run the same steps (`flow.py`): versioned folder, checksums, smoke test, atomic switch."""
