"""Oversight (issue 11; HSAC Task Force report, section IV): complaints (IV rec. 4), the
independent panel's reproducible sample (IV rec. 6), and adherence and detainer monitoring
(II rec. 3, IV rec. 5); the bias and pretext monitor (IV rec. 5: :mod:`.bias`, its input
:mod:`.arrest_counts`, its command :mod:`.bias_commands`).

Modules: :mod:`.params` (cited parameters), :mod:`.access` (who may see what),
:mod:`.complaints`, :mod:`.panel`, :mod:`.adherence`, :mod:`.render` (HTML and CSV),
:mod:`.commands` (the CLI). Every write goes through :mod:`securecomm.store.oversight_repo`,
which appends the audit entry in the same transaction.
"""
