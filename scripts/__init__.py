"""The compatibility-matrix harness: matrix file, server providers, cell runner, report."""
