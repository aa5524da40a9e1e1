"""The work: choosing columns, fitting statistics over a source and applying them, here or on a cluster."""
