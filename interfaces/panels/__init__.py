"""What the web cockpit's panels read, beyond the views the API already had: the trading
state and who moved it, limit use and exposure, market data and its quality, the agents'
activity, and the audit trail."""
