"""Notices over external channels: senders (channels), the delivery worker (delivery), configuration (manage)."""
