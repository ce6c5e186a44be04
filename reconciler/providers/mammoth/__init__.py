"""Everything specific to Mammoth Analytics: handler facts and the API client.

Other export platforms come later as further providers; keeping Mammoth's facts
here keeps them out of the planner and the manifest loader.
"""
