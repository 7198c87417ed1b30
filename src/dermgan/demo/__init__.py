"""`dermgan demo`: the whole pipeline on the phantom dataset, resumable stage by stage."""
