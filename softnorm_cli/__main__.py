from softnorm_cli.cli import main

main()
