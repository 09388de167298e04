"""``evkit batch``: many cases processed from one job file, in parallel, resumable.

:mod:`evkit.batch.jobfile` reads and checks the job file before anything starts;
:mod:`evkit.batch.job` runs one job (case, evidence, extract, profiles, report, verify) in a
worker; :mod:`evkit.batch.local` and :mod:`evkit.batch.cluster` hand jobs to worker processes on
this machine or to a Dask cluster; :mod:`evkit.batch.display` shows what is happening.
"""
