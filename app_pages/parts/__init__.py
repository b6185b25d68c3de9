"""What the pages share: the server's store and runner, language, navigation, the sidebar, who the browser is."""
