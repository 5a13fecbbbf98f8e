"""The provider simulator and the editor driver: shipped for the demo and the tests, never imported by the core."""
