"""How Django runs: the runner seam (process or in-process), the worker, probes, diagnoses and prompts."""
