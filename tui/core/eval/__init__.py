"""Pure evaluation logic (no I/O): rows from dataset lines, scorers, intervals, pairwise wins
and the LLM-judge prompt and verdicts. `tui.services.eval` drives it over the network."""
