"""Historical reports and exports."""
