"""The published language of Cloud Bank: event and command models, the CloudEvents envelope, topics."""
