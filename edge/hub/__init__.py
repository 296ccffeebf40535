"""The campus hub: alert journal, notifications in Chinese, daily report, web console."""
