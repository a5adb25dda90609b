"""Developer tools (not shipped in any image): local bootstrap, seed data, benchmark driver."""
