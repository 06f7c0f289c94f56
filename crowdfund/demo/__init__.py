"""The demo that `make run` seeds (crowdfund/seed.py): generated images and PDFs, and the
showcase of campaigns across categories, kinds and outcomes (`showcase.py`)."""
