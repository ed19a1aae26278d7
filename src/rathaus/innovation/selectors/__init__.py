"""Every read of the innovation app, one module per part: ``calls`` (calls, phases,
criteria, jury, amendments)."""
