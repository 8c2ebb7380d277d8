"""Network reliability shared by the network backends, free of any service's SDK.

- `deadline`: one deadline per public call, shared by all its requests and threads.
- `retrying`: which answers to retry, how long to wait, and the retry loop.
- `reconcile`: whether a conflict after a retry was our own first attempt.
- `reader` and `prefetch`: a ranged reader pinned to one ETag, with read-ahead.
- `uploader`: whole puts or staged parts, with bounded memory and a streamed digest.

A backend supplies the service's half: a `reader.RangeSource`, an `uploader.PartTarget`,
and a *classify* (and *send*) for `retrying.call_with_retries`; see
``sdd/specs/013-reliability.md``.
"""
