"""The checkpoint itself: pass verification, policy, the five-step rule, the store, the console."""
