"""Oversight (HSAC Task Force IV rec. 4-6): complaints, the independent panel's sample, bias and
adherence monitoring."""
