"""Every write of the innovation app, one module per part: ``calls`` (calls, phases,
criteria, the jury, publication and amendments)."""
