"""Pose from a photo with BlazePose (MediaPipe's `.tflite` models run by LiteRT; mediapipe is never imported).

    from tfvton.pose import keypoints_from_photo, map_pose_into_frame
"""
