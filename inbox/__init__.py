"""The inbox: receiving activities (verify, store, answer 202) and processing them from the queue."""
