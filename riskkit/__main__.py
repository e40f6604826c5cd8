from riskkit.cli.main import main

main()
