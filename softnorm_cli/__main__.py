from softnorm_cli.cli.exits import main

main()
