"""The contract kernel: every backend, called directly, keeps the Store's contract."""
