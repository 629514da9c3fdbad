"""Contracts: the bottom layer. Models, status machines, errors and the services that need nothing above them."""
